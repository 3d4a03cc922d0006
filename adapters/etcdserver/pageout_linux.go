package etcdserver

import "golang.org/x/sys/unix"

// pageOut asks the kernel to reclaim the pages of the file at path mapped
// into the process (MADV_PAGEOUT), and returns how many bytes of it the
// resident set held before and after. The advice never changes what the
// memory holds, whatever is mapped at the range by then: were the file
// remapped between reading the maps and the call, the worst is a range
// advised for nothing. Kernels before 5.4 refuse it, and nothing changes.
func pageOut(path string) (before, after int64, err error) {
	m, err := mappingOf(path)
	if err != nil || len(m.ranges) == 0 {
		return 0, 0, err
	}
	for _, r := range m.ranges {
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, r[0], r[1]-r[0], unix.MADV_PAGEOUT); errno != 0 {
			return m.resident, m.resident, errno
		}
	}
	now, err := mappingOf(path)
	return m.resident, now.resident, err
}
