package etcdserver

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// etcd maps its whole file into the process and reads every page of it
// in when it opens it (MAP_POPULATE on Linux), and again after each
// rewrite; so every page of the file counts in the resident set, whether a
// read needs it or not: after 100,000 runs, 250 MB of pages holding mostly
// resources nothing reads. Once the server settled after a burst, and after
// a start, it asks the kernel to take those pages back (pageOut): they stay
// in the file, and the next read of one brings it in again. What stays
// resident is what is read, not what the file holds.

// mappedFile is how the process maps a file: the ranges of its memory
// that map it, and how many bytes of them the resident set holds.
type mappedFile struct {
	ranges   [][2]uintptr // start, end
	resident int64
}

// mappingOf reads how the process maps the file at path, from
// /proc/self/smaps: a header line per range (start-end perms offset dev
// inode path), then its counters, Rss among them.
func mappingOf(path string) (mappedFile, error) {
	var m mappedFile
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return m, err
	}
	inFile := false
	lines := bufio.NewScanner(bytes.NewReader(smaps))
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) == 0 {
			continue
		}
		if from, to, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			start, err1 := strconv.ParseUint(from, 16, 64)
			end, err2 := strconv.ParseUint(to, 16, 64)
			inFile = err1 == nil && err2 == nil && len(fields) >= 6 && strings.Join(fields[5:], " ") == path
			if inFile {
				m.ranges = append(m.ranges, [2]uintptr{uintptr(start), uintptr(end)})
			}
			continue
		}
		if inFile && len(fields) == 3 && fields[0] == "Rss:" {
			if kb, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
				m.resident += kb << 10
			}
		}
	}
	return m, lines.Err()
}

// pageOut hands back the pages of the server's file (see above) and
// returns how many bytes of it were resident before and after; a failure
// is logged and leaves them as they were.
func (s *Server) pageOut() (before, after int64) {
	// The maps name a file by its absolute path, its links resolved.
	path, err := filepath.Abs(s.e.Server.Cfg.BackendPath())
	if err == nil {
		path, err = filepath.EvalSymlinks(path)
	}
	if err == nil {
		before, after, err = pageOut(path)
	}
	if err != nil {
		s.log.Warn("etcd: could not hand back the pages of its file", "err", err)
	}
	return before, after
}
