"""(populated by the corresponding module)."""
