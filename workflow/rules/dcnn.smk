# Chapter 4 diagonal-circulant studies: Figures 4.2-4.6, ECAI Figure 2(a), Tables 4.1, 4.2, 4.5.
