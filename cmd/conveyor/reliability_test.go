package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The reliability suite runs with `make test-reliability` (and in CI), not
// with `make test`: it kills processes on purpose and takes minutes.
// CONVEYOR_RELIABILITY_ROUNDS sizes the crash loop (default 20).
func reliability(t *testing.T) {
	if os.Getenv("CONVEYOR_RELIABILITY") == "" {
		t.Skip("reliability suite: run with make test-reliability")
	}
}

func rounds() int {
	if n, err := strconv.Atoi(os.Getenv("CONVEYOR_RELIABILITY_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 20
}

// TestReliabilityCrashLoop runs pipelines while the server, then a driver,
// is killed with SIGKILL at a random moment and started again, round after
// round. At the end every run has ended and succeeded, each step's result is
// recorded once, no accepted change is missing from the log, the log has no
// hole, and the read models equal a fresh replay of the log.
func TestReliabilityCrashLoop(t *testing.T) {
	reliability(t)
	dir, natsAddr := t.TempDir(), freePort(t)
	args := []string{"--addr", "127.0.0.1:0", "--nats-listen", natsAddr, "--data-dir", dir}
	server := startBinary(t, nil, args...)
	s := server.client(t, "/conveyor")
	drivers := map[string]*exec.Cmd{}
	for _, name := range []string{"compiler", "uploader"} {
		drivers[name] = startTestDriver(t, name, server.at, "WORK_MS=40", "ACK_WAIT_MS=1500")
	}
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	accepted := map[string]string{} // run id -> resource name
	for round := range rounds() {
		for i := range 5 {
			name := fmt.Sprintf("app-%d-%d", round, i)
			status, out := s.call("POST", "/resources", buildResource(name, "abc"))
			if status == http.StatusCreated {
				accepted[out["runid"].(string)] = name
			}
		}
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		if round%2 == 0 {
			_ = server.cmd.Process.Kill()
			<-server.done
			server = startBinary(t, nil, args...)
			s = server.client(t, "/conveyor")
		} else {
			name := []string{"compiler", "uploader"}[round/2%2]
			_ = drivers[name].Process.Kill()
			_ = drivers[name].Wait()
			drivers[name] = startTestDriver(t, name, server.at, "WORK_MS=40", "ACK_WAIT_MS=1500")
		}
	}
	if len(accepted) < rounds()*5/2 {
		t.Fatalf("only %d creates were accepted", len(accepted))
	}
	for runID, name := range accepted {
		if run := s.waitRun(runID); run["status"] != "succeeded" {
			t.Errorf("run %s of %s ended %v: %v", runID, name, run["status"], run["message"])
		}
		checkRunRecordedOnce(t, s.js, runID)
		history := s.must(http.StatusOK, "GET", "/resources/build/"+name+"/history", nil)["items"].([]any)
		if len(history) == 0 || history[0].(map[string]any)["runid"] != runID {
			t.Errorf("the create of %s (run %s) is not in the log: %v", name, runID, history)
		}
	}
	stream, err := s.js.Stream(context.Background(), "CONVEYOR_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.FirstSeq != 1 || info.State.Msgs != info.State.LastSeq {
		t.Errorf("the log has holes: first %d, last %d, %d events", info.State.FirstSeq, info.State.LastSeq, info.State.Msgs)
	}
	s.settle()
	if code, out := projectionsCmd(t, s, "verify"); code != 0 {
		t.Errorf("the read models differ from a replay of the log:\n%s", out)
	}
	t.Logf("%d rounds, %d runs, %d events", rounds(), len(accepted), info.State.Msgs)
}

// TestReliabilityContention: 100 writers on one resource, and 1,000 writers
// across 100 resources. Every accepted write is in the history, every
// rejected one got 409, and versions have no gap.
func TestReliabilityContention(t *testing.T) {
	reliability(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	s.must(http.StatusCreated, "POST", "/resources", buildResource("hot", "v0"))

	// 100 writers, each reading the version and replacing it, 5 times.
	var mu sync.Mutex
	accepted := map[string]bool{}
	var wg sync.WaitGroup
	for w := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				status, cur := s.call("GET", "/resources/build/hot", nil)
				if status != http.StatusOK {
					t.Errorf("read: %d", status)
					return
				}
				ref := fmt.Sprintf("w%d-%d", w, i)
				status, _ = s.call("PUT", "/resources/build/hot", buildResource("hot", ref),
					"If-Match", strconv.Quote(fmt.Sprint(cur["metadata"].(map[string]any)["version"])))
				switch status {
				case http.StatusOK:
					mu.Lock()
					accepted[ref] = true
					mu.Unlock()
				case http.StatusConflict:
				default:
					t.Errorf("writer %d: status %d", w, status)
				}
			}
		}()
	}
	wg.Wait()
	versions := s.must(http.StatusOK, "GET", "/resources/build/hot/versions?limit=1000", nil)["items"].([]any)
	if len(versions) != len(accepted)+1 {
		t.Errorf("%d versions for %d accepted replaces", len(versions), len(accepted))
	}
	for i, v := range versions {
		r := v.(map[string]any)
		if r["metadata"].(map[string]any)["version"] != fmt.Sprint(i+1) {
			t.Fatalf("versions have a gap at %d: %v", i, r["metadata"])
		}
		if ref := r["spec"].(map[string]any)["ref"].(string); i > 0 && !accepted[ref] {
			t.Errorf("version %d holds %s, which was not accepted", i+1, ref)
		}
	}

	// 1,000 writers across 100 resources, all expecting version 1.
	for i := range 100 {
		r := buildResource(fmt.Sprintf("r%d", i), "v0")
		delete(r, "pipeline")
		s.must(http.StatusCreated, "POST", "/resources", r)
	}
	wins := make([]int, 100)
	for w := range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := buildResource(fmt.Sprintf("r%d", w%100), fmt.Sprint(w))
			delete(r, "pipeline")
			status, answer := s.call("PUT", fmt.Sprintf("/resources/build/r%d", w%100), r, "If-Match", `"1"`)
			switch status {
			case http.StatusOK:
				mu.Lock()
				wins[w%100]++
				mu.Unlock()
			case http.StatusConflict:
			default:
				t.Errorf("writer %d: status %d %v", w, status, answer["detail"])
			}
		}()
	}
	wg.Wait()
	for i, n := range wins {
		if n != 1 {
			t.Errorf("resource r%d: %d replaces won, want 1", i, n)
		}
	}
}

// TestReliabilityAbsentDriver: work published while no driver runs waits
// for it, and is all done when the drivers come.
func TestReliabilityAbsentDriver(t *testing.T) {
	reliability(t)
	s := startServer(t, nil)
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	s.must(http.StatusCreated, "POST", "/pipelines", ciPipeline)
	var runs []string
	for i := range 50 {
		runs = append(runs, s.must(http.StatusCreated, "POST", "/resources", buildResource(fmt.Sprintf("app-%d", i), "x"))["runid"].(string))
	}
	s.settle()
	runDriver(t, s, "compiler", chatty(1, 0))
	runDriver(t, s, "uploader", chatty(1, 0))
	for _, id := range runs {
		if run := s.waitRun(id); run["status"] != "succeeded" {
			t.Errorf("run %s ended %v", id, run["status"])
		}
	}
}

// externalProcess is a NATS or etcd server of the dependency test.
type externalProcess struct {
	args []string
	cmd  *exec.Cmd
}

func (p *externalProcess) start(t *testing.T) {
	t.Helper()
	p.cmd = exec.Command(p.args[0], p.args[1:]...)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
}

func (p *externalProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()
}

// TestReliabilityDependenciesFailing stops NATS, then etcd, while requests
// arrive: without NATS they fail fast with 503 and Retry-After and nothing
// is half-written; without etcd, writes are taken (the log holds them) and
// reads fail fast; service resumes by itself when the dependency is back.
func TestReliabilityDependenciesFailing(t *testing.T) {
	reliability(t)
	natsBin, etcdBin := lookBin("nats-server"), lookBin("etcd")
	if natsBin == "" || etcdBin == "" {
		t.Fatal("nats-server and etcd must be installed (.ci/run installs them)")
	}
	dir := t.TempDir()
	natsPort, etcdAddr, peerAddr := strings.Split(freePort(t), ":")[1], freePort(t), freePort(t)
	nats := &externalProcess{args: []string{natsBin, "--addr", "127.0.0.1", "--port", natsPort, "--jetstream", "--store_dir", dir + "/nats"}}
	etcd := &externalProcess{args: []string{etcdBin, "--name", "t", "--data-dir", dir + "/etcd",
		"--listen-client-urls", "http://" + etcdAddr, "--advertise-client-urls", "http://" + etcdAddr,
		"--listen-peer-urls", "http://" + peerAddr, "--initial-advertise-peer-urls", "http://" + peerAddr,
		"--initial-cluster", "t=http://" + peerAddr}}
	nats.start(t)
	etcd.start(t)
	time.Sleep(time.Second)
	server := startBinary(t, nil, "--addr", "127.0.0.1:0", "--data-dir", dir+"/conveyor",
		"--nats-url", "nats://127.0.0.1:"+natsPort, "--etcd-endpoints", "http://"+etcdAddr, "--admin-token-file", providedAdminToken(t))
	s := server.client(t, "/conveyor")
	s.must(http.StatusCreated, "POST", "/resource-definitions", buildDefinition)
	r := buildResource("before", "x")
	delete(r, "pipeline")
	s.must(http.StatusCreated, "POST", "/resources", r)

	for _, dep := range []*externalProcess{nats, etcd} {
		name := dep.args[0][strings.LastIndex(dep.args[0], "/")+1:]
		dep.stop()
		time.Sleep(1500 * time.Millisecond) // the server's health watch notices
		for i := range 5 {
			start := time.Now()
			r := buildResource(fmt.Sprintf("during-%s-%d", name, i), "x")
			delete(r, "pipeline")
			status, raw := s.callRaw("POST", "/resources", r)
			// A write needs the log (NATS), not the read models (etcd).
			want := http.StatusServiceUnavailable
			if name == "etcd" {
				want = http.StatusCreated
			}
			if status != want || time.Since(start) > 3*time.Second {
				t.Errorf("%s away: create answered %d after %v, want %d: %s", name, status, time.Since(start), want, raw)
			}
		}
		req, _ := http.NewRequest("GET", s.at.API+"/resources/build/before", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s away: read answered %d, Retry-After %q", name, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		dep.start(t)
		deadline := time.Now().Add(30 * time.Second)
		for {
			if server.cmd.ProcessState != nil {
				t.Fatalf("the server exited while %s was away:\n%s", name, server.output())
			}
			if status, _ := s.callRaw("GET", "/resources/build/before", nil); status == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("service did not resume within 30s of %s coming back", name)
			}
			time.Sleep(100 * time.Millisecond)
		}
		r := buildResource("after-"+name, "x")
		delete(r, "pipeline")
		s.must(http.StatusCreated, "POST", "/resources", r)
	}
	items := s.must(http.StatusOK, "GET", "/resources/build", nil)["items"].([]any)
	var names []string
	for _, it := range items {
		names = append(names, it.(map[string]any)["name"].(string))
	}
	want := "after-etcd,after-nats-server,before,during-etcd-0,during-etcd-1,during-etcd-2,during-etcd-3,during-etcd-4"
	if strings.Join(names, ",") != want {
		t.Errorf("resources after the outages: %v, want %s (a request refused with 503 must not have written; one taken while etcd was away must be visible)", names, want)
	}
}

func lookBin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := strings.TrimSpace(string(out)) + "/bin/" + name
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
