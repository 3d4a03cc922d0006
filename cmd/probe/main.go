package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/conveyor/conveyor/adapters/natsserver"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func main() {
	dir, _ := os.MkdirTemp("", "probe")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := natsserver.Start(ctx, natsserver.Config{Listen: "127.0.0.1:0", StoreDir: dir})
	if err != nil {
		panic(err)
	}
	nc, _ := s.Connect()
	js, _ := jetstream.New(nc)
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "E", Subjects: []string{"e.>"}, AllowDirect: true, Storage: jetstream.FileStorage})
	if err != nil {
		panic(err)
	}
	p50 := func(name string, f func(i int)) {
		var d []time.Duration
		for i := 0; i < 2000; i++ {
			t := time.Now()
			f(i)
			d = append(d, time.Since(t))
		}
		sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
		fmt.Println(name, d[len(d)/2], d[len(d)*99/100])
	}
	p50("publish", func(i int) {
		_, err := js.PublishMsg(ctx, &nats.Msg{Subject: fmt.Sprintf("e.x.%d", i), Data: []byte("{}")}, jetstream.WithExpectLastSequencePerSubject(0))
		if err != nil {
			panic(err)
		}
	})
	p50("getlast-found", func(i int) { _, _ = st.GetLastMsgForSubject(ctx, fmt.Sprintf("e.x.%d", i)) })
	p50("getlast-missing", func(i int) { _, _ = st.GetLastMsgForSubject(ctx, fmt.Sprintf("e.y.%d", i)) })
	p50("getmsg", func(i int) { _, _ = st.GetMsg(ctx, uint64(i+1)) })
	p50("flush", func(i int) { _ = nc.Flush() })
}
