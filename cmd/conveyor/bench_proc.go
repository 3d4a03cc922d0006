package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// what `getconf CLK_TCK` prints, which Linux fixes at 100 for user space on
// every architecture.
const clockTicks = 100

// cpuTime reads the CPU time a process has used so far, user and system,
// from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The second field, the command's name, is in parentheses and may hold
	// spaces: the fields are counted after its closing one.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("/proc stat: no command name")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("/proc stat: too few fields")
	}
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// cpuShare is the CPU a process used over a window, in % of one core: over
// all of it, and over its first and second halves (a server still working
// off the load before shows in the first).
type cpuShare struct{ all, first, second float64 }

func (c cpuShare) String() string {
	return fmt.Sprintf("%s (first half %s, second half %s)", cpuPercent(c.all), cpuPercent(c.first), cpuPercent(c.second))
}

func cpuPercent(p float64) string { return fmt.Sprintf("%.2f %%", p) }

// idleCPU watches a process for d, asking nothing of it, and returns the
// CPU it used meanwhile.
func idleCPU(ctx context.Context, pid int, d time.Duration) (cpuShare, error) {
	var used [3]time.Duration
	var at [3]time.Time
	for i := range used {
		if i > 0 {
			select {
			case <-ctx.Done():
				return cpuShare{}, ctx.Err()
			case <-time.After(d / 2):
			}
		}
		var err error
		if used[i], err = cpuTime(pid); err != nil {
			return cpuShare{}, err
		}
		at[i] = time.Now()
	}
	share := func(from, to int) float64 {
		return 100 * float64(used[to]-used[from]) / float64(at[to].Sub(at[from]))
	}
	return cpuShare{all: share(0, 2), first: share(0, 1), second: share(1, 2)}, nil
}

// dataSizes is what a server's data directory holds: the event log (the
// embedded NATS's store, nats/) and the read models (the embedded etcd's,
// etcd/), in bytes.
type dataSizes struct{ log, models int64 }

func (s dataSizes) total() int64 { return s.log + s.models }

// measureDataSizes adds up what the files under dir's nats/ and etcd/ take
// on disk.
func measureDataSizes(dir string) (dataSizes, error) {
	log, err := filesOnDisk(filepath.Join(dir, "nats"))
	if err != nil {
		return dataSizes{}, err
	}
	models, err := filesOnDisk(filepath.Join(dir, "etcd"))
	return dataSizes{log: log, models: models}, err
}

// filesOnDisk adds up what the regular files under dir take on disk. A
// file the server removes while it walks is not counted.
func filesOnDisk(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		n += onDisk(info)
		return nil
	})
	return n, err
}

// diskMegabytes is a size on disk in MB, to a tenth.
func diskMegabytes(bytes int64) string { return fmt.Sprintf("%.1f MB", float64(bytes)/1e6) }
