// Slotgate's view of the system hiredis (Debian libhiredis-dev 0.14.1, RESP2 only).
#ifndef SLOTGATE_CHIREDIS_SHIM_H
#define SLOTGATE_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#endif
