//! PNG images: 8-bit greyscale read and write (filled in by the scenes work).
