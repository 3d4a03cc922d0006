package sdk

import "time"

// repeat calls send at once and then every interval until the returned
// stop is called; stop waits for the last call to return, then calls last.
func repeat(interval time.Duration, send, last func()) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			send()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		last()
	}
}
