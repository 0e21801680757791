// Go's net/http/fcgi serving the bench routes on the Unix socket given as the
// first argument: the reference peer of the webfcgi benchmarks (stdlib only).
package main

import (
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/fcgi"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

var (
	hello  = []byte("Hello, World!")
	oneMiB = bytes.Repeat([]byte{'x'}, 1<<20)
	chunk  = bytes.Repeat([]byte{'y'}, 2048)
)

const chunks = 8

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: gofcgi <socket path>")
	}
	path := os.Args[1]
	os.Remove(path)
	listener, err := net.Listen("unix", path)
	if err != nil {
		log.Fatal(err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		listener.Close()
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(hello)
	})
	oneMiBHandler := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(oneMiB)
	}
	mux.HandleFunc("/1m", oneMiBHandler)
	mux.HandleFunc("/1m-static", oneMiBHandler)
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Write([]byte(strconv.FormatInt(n, 10)))
	})
	mux.HandleFunc("/stream16k", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		flusher, _ := w.(http.Flusher)
		for i := 0; i < chunks; i++ {
			w.Write(chunk)
			if flusher != nil {
				flusher.Flush()
			}
		}
	})
	fcgi.Serve(listener, mux)
}
