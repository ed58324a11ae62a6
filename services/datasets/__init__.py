"""Data sets shadowqa generates itself (nothing is downloaded at run time)."""
