package execdriver

import (
	"bytes"
	"strings"
	"sync"
)

// tail keeps the last lines written to it, each cut to maxLine bytes. Safe
// for concurrent use.
type tail struct {
	mu      sync.Mutex
	n       int
	lines   []string
	partial []byte
}

// maxLine bounds each line tail keeps, so that the last lines fit a result.
const maxLine = 256

func newTail(n int) *tail { return &tail{n: n} }

// Write implements io.Writer.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(t.partial) < maxLine {
				t.partial = append(t.partial, p[:min(len(p), maxLine-len(t.partial))]...)
			}
			break
		}
		if len(t.partial) < maxLine {
			t.partial = append(t.partial, p[:min(i, maxLine-len(t.partial))]...)
		}
		t.add(string(bytes.TrimRight(t.partial, "\r")))
		t.partial = t.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

func (t *tail) add(line string) {
	t.lines = append(t.lines, strings.ToValidUTF8(line, "?"))
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

// Lines are the last lines, a line without its newline last.
func (t *tail) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.lines...)
	if len(t.partial) > 0 {
		out = append(out, strings.ToValidUTF8(string(t.partial), "?"))
		if len(out) > t.n {
			out = out[1:]
		}
	}
	return out
}
