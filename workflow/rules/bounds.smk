# Chapter 5 bound studies: Figure 5.2, Tables 5.1 and 5.2 (registered below).
