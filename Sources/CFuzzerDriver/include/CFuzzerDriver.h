// libFuzzer's driver, for fuzz targets that have a `main` of their own (SwiftPM gives every
// executable one). The fuzzer runtime linked in by `-sanitize=fuzzer` defines it.
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*testOneInput)(const uint8_t *data, size_t size));
