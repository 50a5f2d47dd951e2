// The matrix application on Go's net/http (ci/matrix/README.md): standard
// library only, a ServeMux as an ordinary Go program would use it.
// Usage: app PORT VARIANT   (VARIANT: 404 or 405)
package main

import (
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
)

const page = "<!doctype html><title>h1spec</title><p>h1spec matrix app\n"

var variant = "404"

// route wraps a handler with the methods it answers; other methods get 404
// or (variant 405) the body read and then 405 with Allow.
func route(methods []string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, m := range methods {
			if r.Method == m {
				h(w, r)
				return
			}
		}
		if variant == "405" {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Allow", strings.Join(methods, ", "))
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		http.NotFound(w, r)
	}
}

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: app PORT [VARIANT]")
	}
	if len(os.Args) > 2 {
		variant = os.Args[2]
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		route([]string{"GET", "HEAD"}, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Length", strconv.Itoa(len(page)))
			io.WriteString(w, page)
		})(w, r)
	})
	mux.HandleFunc("/echo", route([]string{"POST"}, func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	mux.HandleFunc("/nocontent", route([]string{"GET", "HEAD"}, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := &http.Server{Addr: "127.0.0.1:" + os.Args[1], Handler: mux}
	log.Fatal(srv.ListenAndServe())
}
