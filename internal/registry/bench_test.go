package registry

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/registry/fakeopas"
)

// BenchmarkFullSync is the daily job at national scale: fetch over HTTP
// (gzip) from the fake, parse, validate, diff against and replace into the
// in-memory store, and rebuild the lookup. Each iteration starts from an
// empty store so every run writes the whole registry.
func BenchmarkFullSync(b *testing.B) {
	ds := fakeopas.Generate(1, fakeopas.SizeNational)
	srv := fakeopas.NewServer(ds)
	defer srv.Close()
	c := newTestClient(b, srv, WithTimeout(time.Minute))
	reg := NewRegistry(nil)
	n := ds.Len()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st := newMemStore()
		s := NewSyncer(st, c, quietLogger(), WithOnUpdate(reg.Update))
		run, err := s.Run(context.Background())
		if err != nil || run.Added != n {
			b.Fatalf("run %+v: %v", run, err)
		}
	}
	b.ReportMetric(float64(n), "orgs")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/org")
}

// BenchmarkFullSyncUnchanged is the common day: nothing changed.
func BenchmarkFullSyncUnchanged(b *testing.B) {
	ds := fakeopas.Generate(1, fakeopas.SizeNational)
	srv := fakeopas.NewServer(ds)
	defer srv.Close()
	c := newTestClient(b, srv, WithTimeout(time.Minute))
	reg := NewRegistry(nil)
	st := newMemStore()
	s := NewSyncer(st, c, quietLogger(), WithOnUpdate(reg.Update))
	if _, err := s.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if run, err := s.Run(context.Background()); err != nil || run.Outcome != model.SyncUnchanged {
			b.Fatalf("run %+v: %v", run, err)
		}
	}
	b.ReportMetric(float64(ds.Len()), "orgs")
}

func nationalBody(b *testing.B) []byte {
	b.Helper()
	ds := fakeopas.Generate(1, fakeopas.SizeNational)
	srv := fakeopas.NewServer(ds)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/hierarkia/hae?"+FetchQuery, nil)
	req.Header.Set("Caller-Id", "bench")
	resp, err := srv.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func BenchmarkParseHierarchy(b *testing.B) {
	body := nationalBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var n int
	for b.Loop() {
		orgs, err := ParseHierarchy(bytes.NewReader(body), time.UTC)
		if err != nil {
			b.Fatal(err)
		}
		n = len(orgs)
	}
	b.ReportMetric(float64(n), "orgs")
}

func BenchmarkNewLookup(b *testing.B) {
	orgs := fakeopas.Generate(1, fakeopas.SizeNational).Orgs()
	b.ReportAllocs()
	for b.Loop() {
		NewLookup(orgs)
	}
	b.ReportMetric(float64(len(orgs)), "orgs")
}

func BenchmarkBySchoolCode(b *testing.B) {
	orgs := fakeopas.Generate(1, fakeopas.SizeNational).Orgs()
	l := NewLookup(orgs)
	var codes []string
	for _, o := range orgs {
		if o.SchoolCode != "" {
			codes = append(codes, o.SchoolCode)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := l.BySchoolCode(codes[i%len(codes)]); !ok {
			b.Fatal("missing")
		}
		i++
	}
}

// BenchmarkResolveSchool is what a login does per school: code -> school
// -> provider.
func BenchmarkResolveSchool(b *testing.B) {
	orgs := fakeopas.Generate(1, fakeopas.SizeNational).Orgs()
	reg := NewRegistry(NewLookup(orgs))
	var codes []string
	for _, o := range orgs {
		if o.SchoolCode != "" {
			codes = append(codes, o.SchoolCode)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l := reg.Current()
		s, ok := l.BySchoolCode(codes[i%len(codes)])
		if !ok {
			b.Fatal("missing")
		}
		l.Provider(s)
		i++
	}
}
