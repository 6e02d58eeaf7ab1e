// glibc's allocator controls, which Swift's Glibc module does not export: mallinfo2() says how
// much freed memory the allocator holds, malloc_trim() gives it back to the system.
#include <malloc.h>
