// The header is all there is: this file only makes the directory a C target.
#include "CGlibcMalloc.h"
