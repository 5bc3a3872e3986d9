//go:build linux

package merkle

import (
	"os"
	"syscall"
)

// mapFile maps a regular file of size bytes read-only, for ReadRewards to
// parse in place, its pages mapped at once (MAP_POPULATE): reading it into the heap cost a copy and a page fault for
// each of its pages (a tenth of `fieldmint tree`'s time at 200k leaves on
// this machine's virtual CPUs), all before the parsing could start. Nothing
// parsed points into the mapping, so release may unmap it once parsed. A
// file truncated by another process while mapped would fault the reader.
func mapFile(f *os.File, size int64) (data []byte, release func(), ok bool) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, false
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return nil, nil, false
	}
	return data, func() { syscall.Munmap(data) }, true
}
