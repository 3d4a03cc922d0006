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

// mappedFile is one range of the process's memory that maps a file.
type mappedFile struct {
	start, end uintptr
}

// mappingsOf lists the ranges of /proc/self/maps whose file is path.
func mappingsOf(path string) ([]mappedFile, error) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	var found []mappedFile
	lines := bufio.NewScanner(bytes.NewReader(maps))
	for lines.Scan() {
		// start-end perms offset dev inode path
		fields := strings.Fields(lines.Text())
		if len(fields) < 6 || strings.Join(fields[5:], " ") != path {
			continue
		}
		from, to, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(from, 16, 64)
		end, err2 := strconv.ParseUint(to, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		found = append(found, mappedFile{start: uintptr(start), end: uintptr(end)})
	}
	return found, lines.Err()
}

// residentBytes is how much of the file at path the resident set holds,
// from /proc/self/smaps.
func residentBytes(path string) (int64, error) {
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	var total int64
	inFile := false
	lines := bufio.NewScanner(bytes.NewReader(smaps))
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			inFile = len(fields) >= 6 && strings.Join(fields[5:], " ") == path
			continue
		}
		if inFile && len(fields) == 3 && fields[0] == "Rss:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				total += kb << 10
			}
		}
	}
	return total, lines.Err()
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
