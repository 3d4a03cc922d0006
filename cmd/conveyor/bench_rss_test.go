package main

import (
	"os"
	"strings"
	"testing"
)

// TestResidentPartsAddUp: the scale bench's memory rows split the resident
// set into the process's own memory and its mapped files, read from
// /proc/{pid}/status; the parts are there and do not exceed the whole.
func TestResidentPartsAddUp(t *testing.T) {
	got, err := procStatusKB(os.Getpid(), "VmRSS", "RssAnon", "RssFile", "RssShmem")
	if err != nil {
		t.Fatal(err)
	}
	rss, anon, file, shmem := got[0], got[1], got[2], got[3]
	if anon <= 0 || file <= 0 {
		t.Fatalf("RssAnon %d, RssFile %d: want both above 0", anon, file)
	}
	if sum := anon + file + shmem; sum != rss {
		t.Errorf("RssAnon+RssFile+RssShmem = %d, VmRSS = %d", sum, rss)
	}
	if _, err := procStatusKB(os.Getpid(), "NoSuchField"); err == nil || !strings.Contains(err.Error(), "NoSuchField") {
		t.Errorf("an unknown field: err %v, want one naming it", err)
	}
	if s := residentParts(os.Getpid(), rss); !strings.Contains(s, "anonymous") || !strings.Contains(s, "mapped files") {
		t.Errorf("residentParts = %q", s)
	}
}
