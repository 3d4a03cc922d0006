package etcdserver

import "golang.org/x/sys/unix"

// pageOut asks the kernel to reclaim the pages of the file at path mapped
// into the process (MADV_PAGEOUT), and returns how many bytes of it the
// resident set held before and after. The advice never changes what the
// memory holds, whatever is mapped at the range by then: were the file
// remapped between reading the maps and the call, the worst is a range
// advised for nothing. Kernels before 5.4 refuse it, and nothing changes.
func pageOut(path string) (before, after int64, err error) {
	ranges, err := mappingsOf(path)
	if err != nil || len(ranges) == 0 {
		return 0, 0, err
	}
	before, _ = residentBytes(path)
	for _, r := range ranges {
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, r.start, r.end-r.start, unix.MADV_PAGEOUT); errno != 0 {
			return before, before, errno
		}
	}
	after, err = residentBytes(path)
	return before, after, err
}
