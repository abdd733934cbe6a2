package deploy

import (
	"debug/elf"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The images the plugin ships in, by their C library (aws-for-fluent-bit's
// release notes; README, Compatibility).
var (
	al2023 = glibc{2, 34} // aws-for-fluent-bit 3.x, Amazon Linux 2023
	al2    = glibc{2, 26} // aws-for-fluent-bit 2.x, Amazon Linux 2
)

// exports are the symbols Fluent Bit looks up in a Go output plugin for
// several instances (src/flb_plugin_proxy.c: FlushCtx and ExitCtx are
// preferred when present).
var exports = []string{"FLBPluginRegister", "FLBPluginInit", "FLBPluginFlushCtx", "FLBPluginExitCtx"}

type glibc [2]int

func (g glibc) String() string { return fmt.Sprintf("GLIBC_%d.%d", g[0], g[1]) }

func (g glibc) after(o glibc) bool { return g[0] > o[0] || g[0] == o[0] && g[1] > o[1] }

func parseGlibc(v string) (glibc, bool) {
	num, ok := strings.CutPrefix(v, "GLIBC_")
	if !ok {
		return glibc{}, false
	}
	parts := strings.Split(num, ".")
	var g glibc
	for i := 0; i < 2 && i < len(parts); i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return glibc{}, false
		}
		g[i] = n
	}
	return g, true
}

// TestSharedObjects reads the .so files make builds, for amd64 (FLB_SO) and
// for arm64 (FLB_SO_ARM64, cross-built with Debian's gcc-aarch64-linux-gnu),
// as the dynamic loader of an image would: the ELF machine, the exported
// FLBPlugin* functions, and the newest glibc symbol version they need. Both
// need glibc 2.34 (pthread and res_search moved into libc.so.6 there), so
// they load in aws-for-fluent-bit 3.x (Amazon Linux 2023) and not in 2.x
// (Amazon Linux 2, glibc 2.26): the image for 2.x builds on Amazon Linux 2
// (docker/Dockerfile).
func TestSharedObjects(t *testing.T) {
	for _, c := range []struct {
		env     string
		machine elf.Machine
	}{
		{"FLB_SO", elf.EM_X86_64},
		{"FLB_SO_ARM64", elf.EM_AARCH64},
	} {
		t.Run(c.env, func(t *testing.T) {
			path := os.Getenv(c.env)
			if path == "" {
				t.Skipf("skipped: %s is not set (make test sets it)", c.env)
			}
			f, err := elf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Machine != c.machine || f.Class != elf.ELFCLASS64 || f.Type != elf.ET_DYN {
				t.Errorf("%s: %v %v %v, want %v ELFCLASS64 ET_DYN", path, f.Machine, f.Class, f.Type, c.machine)
			}

			syms, err := f.DynamicSymbols()
			if err != nil {
				t.Fatal(err)
			}
			defined := map[string]bool{}
			for _, s := range syms {
				if s.Section != elf.SHN_UNDEF && elf.ST_TYPE(s.Info) == elf.STT_FUNC && elf.ST_BIND(s.Info) == elf.STB_GLOBAL {
					defined[s.Name] = true
				}
			}
			for _, name := range exports {
				if !defined[name] {
					t.Errorf("%s does not export %s", path, name)
				}
			}

			imported, err := f.ImportedSymbols()
			if err != nil {
				t.Fatal(err)
			}
			var newest glibc
			need := map[glibc][]string{}
			for _, s := range imported {
				if g, ok := parseGlibc(s.Version); ok {
					need[g] = append(need[g], s.Name)
					if g.after(newest) {
						newest = g
					}
				}
			}
			over := func(limit glibc) []string {
				var out []string
				for g, names := range need {
					if g.after(limit) {
						for _, n := range names {
							out = append(out, n+"@"+g.String())
						}
					}
				}
				slices.Sort(out)
				return out
			}
			t.Logf("%s (%v) needs up to %v", path, f.Machine, newest)
			if s := over(al2023); len(s) > 0 {
				t.Errorf("needs a newer glibc than Amazon Linux 2023's %v (aws-for-fluent-bit 3.x): %v", al2023, s)
			}
			if len(over(al2)) == 0 {
				t.Errorf("needs nothing newer than Amazon Linux 2's %v: README says this .so does not load in aws-for-fluent-bit 2.x", al2)
			}
		})
	}
}
