#pragma once
// A process-wide allocator setting that programs opt into (the library never changes it by itself).
namespace sammpa {

// glibc hands big blocks (> 128 KiB by default) straight back to the OS on free, so every fresh activation
// tensor of the SAM engine pays page faults again (measured: a third of the mask decoder's time). After this
// call freed memory stays in the heap and the next tensor of the same size reuses warm pages. The sammpa
// program and the benchmarks call it first thing; it affects the whole process.
void keep_freed_memory_in_heap();

}  // namespace sammpa
