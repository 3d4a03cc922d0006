package main

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBodyDeadline: a body that does not arrive within the read timeout
// fails the handler's read, while a stream without a body, and a handler
// that takes its time after reading its body, outlive the timeout (which
// net/http lifts once the body is read).
func TestBodyDeadline(t *testing.T) {
	const timeout = 200 * time.Millisecond
	bodyErr := make(chan error, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slow-body", func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		bodyErr <- err
	})
	mux.HandleFunc("POST /slow-handler", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		time.Sleep(5 * timeout)
		if r.Context().Err() != nil {
			_, _ = io.WriteString(w, "cancelled\n")
			return
		}
		_, _ = io.WriteString(w, "live\n")
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			if r.Context().Err() != nil {
				return
			}
			_, _ = io.WriteString(w, "tick\n")
			_ = http.NewResponseController(w).Flush()
			if i < 2 {
				time.Sleep(5 * timeout)
			}
		}
	})
	srv := newHTTPServer(serverConfig{ReadTimeout: timeout}, mux, nil, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	base := "http://" + ln.Addr().String()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "POST /slow-body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
	select {
	case err := <-bodyErr:
		if err == nil {
			t.Error("a body 8 bytes short was read without error")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a body that never arrives still holds the handler after 20s")
	}

	resp, err := http.Get(base + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Count(string(got), "tick") != 3 {
		t.Errorf("the stream was cut: %q", got)
	}

	resp, err = http.Post(base+"/slow-handler", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if line, _ := bufio.NewReader(resp.Body).ReadString('\n'); line != "live\n" {
		t.Errorf("a handler that took its time after reading its body: %q", line)
	}
}
