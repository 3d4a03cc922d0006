//go:build unix

package main

import (
	"io/fs"
	"syscall"
)

// onDisk is what a file takes on disk: its allocated blocks, as du counts
// them. etcd's database file grows by truncation and is sparse, so its
// length says more than it holds.
func onDisk(info fs.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512 // st_blocks counts 512-byte units whatever the block size
	}
	return info.Size()
}
