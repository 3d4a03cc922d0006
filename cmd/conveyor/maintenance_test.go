package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// generationDump is every key of one read-model generation, relative to it.
func generationDump(t *testing.T, s *testServer, gen int) string {
	t.Helper()
	prefix := fmt.Sprintf("%s/g%d/", s.cfg.EtcdPrefix, gen)
	resp, err := s.etcd.Get(context.Background(), prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, kv := range resp.Kvs {
		lines = append(lines, strings.TrimPrefix(string(kv.Key), prefix)+"="+string(kv.Value))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func projectionsCmd(t *testing.T, s *testServer, job string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runClient(context.Background(), "projections", []string{job, "--server", s.at.API}, strings.NewReader(""), &out, &errOut)
	return code, out.String() + errOut.String()
}

// TestRebuildWhileServing rebuilds the read models twice: once on a quiet
// system, where the new generation equals the old one key for key, and once
// under traffic, where no request fails and verify then finds nothing.
func TestRebuildWhileServing(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	for i := range 30 {
		r := buildResource(fmt.Sprintf("app-%d", i), "abc")
		if i%2 == 0 {
			delete(r, "pipeline")
		}
		s.must(http.StatusCreated, "POST", "/resources", r)
	}
	s.must(http.StatusOK, "PUT", "/resources/build/app-1", buildResource("app-1", "def"))
	s.must(http.StatusNoContent, "DELETE", "/resources/build/app-2", nil)
	s.settle()
	before := generationDump(t, s, 1)

	code, out := projectionsCmd(t, s, "rebuild")
	if code != 0 || !strings.Contains(out, "generation 1 -> 2") {
		t.Fatalf("rebuild: exit %d\n%s", code, out)
	}
	t.Log(strings.TrimSpace(out))
	if after := generationDump(t, s, 2); after != before {
		t.Errorf("the rebuilt generation differs from the one before:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if old := generationDump(t, s, 1); old != "" {
		t.Errorf("generation 1 was not dropped: %d bytes left", len(old))
	}
	s.must(http.StatusOK, "GET", "/resources/build/app-1", nil)

	// Under traffic: readers and writers keep going through the rebuild.
	ctx, stop := context.WithCancel(context.Background())
	var failures, requests atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				var status int
				if w%2 == 0 {
					status, _ = s.callRaw("GET", "/resources/build/app-1", nil)
				} else {
					r := buildResource(fmt.Sprintf("live-%d-%d", w, i), "x")
					delete(r, "pipeline")
					status, _ = s.callRaw("POST", "/resources", r)
					if status == http.StatusCreated {
						if st, _ := s.callRaw("GET", fmt.Sprintf("/resources/build/live-%d-%d", w, i), nil); st != http.StatusOK {
							status = st // read your writes holds through the switch
						}
					}
				}
				requests.Add(1)
				if status != http.StatusOK && status != http.StatusCreated {
					failures.Add(1)
				}
			}
		}()
	}
	code, out = projectionsCmd(t, s, "rebuild")
	stop()
	wg.Wait()
	if code != 0 {
		t.Fatalf("rebuild under traffic: exit %d\n%s", code, out)
	}
	if failures.Load() != 0 {
		t.Errorf("%d of %d requests failed during the rebuild", failures.Load(), requests.Load())
	}
	t.Logf("%d requests served during the rebuild; %s", requests.Load(), strings.TrimSpace(out))
	s.settle()
	if code, out := projectionsCmd(t, s, "verify"); code != 0 {
		t.Errorf("verify after the rebuild: exit %d\n%s", code, out)
	}
}

// TestVerifyFindsAPlantedDifference changes etcd behind the server's back.
func TestVerifyFindsAPlantedDifference(t *testing.T) {
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	r := buildResource("app-1", "abc")
	delete(r, "pipeline")
	s.must(http.StatusCreated, "POST", "/resources", r)
	s.settle()
	if code, out := projectionsCmd(t, s, "verify"); code != 0 || !strings.Contains(out, "0 difference(s)") {
		t.Fatalf("verify of an untouched system: exit %d\n%s", code, out)
	}
	ctx := context.Background()
	if _, err := s.etcd.Put(ctx, s.cfg.EtcdPrefix+"/g1/resources/build/app-1", `{"value":{"name":"tampered"}}`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.etcd.Put(ctx, s.cfg.EtcdPrefix+"/g1/pipelines/ghost", `{}`); err != nil {
		t.Fatal(err)
	}
	code, out := projectionsCmd(t, s, "verify")
	if code != 1 || !strings.Contains(out, "differs  resources/build/app-1") || !strings.Contains(out, "extra    pipelines/ghost") ||
		!strings.Contains(out, "2 difference(s)") {
		t.Errorf("verify: exit %d\n%s", code, out)
	}
}
