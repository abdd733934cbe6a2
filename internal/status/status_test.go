package status

import "testing"

func TestFromValue(t *testing.T) {
	cases := map[string]Status{
		"WARNING": Warn, "warn": Warn, "Err": Error, "error": Error, "fatal": Critical, "CRIT": Critical,
		"panic": Emergency, "emerg": Emergency, "alert": Alert, "notice": Notice, "INFO": Info,
		"informational": Info, "trace": Debug, "debug": Debug, "ok": OK, "0": Emergency, "3": Error,
		"7": Debug, "8": "", "200": "", "": "", "verylongvaluethatisnotalevel": "", "infos": "",
	}
	for in, want := range cases {
		got, ok := FromValue([]byte(in))
		if got != want || ok != (want != "") {
			t.Errorf("FromValue(%q) = %q,%v want %q", in, got, ok, want)
		}
	}
}

func TestFromMessage(t *testing.T) {
	cases := map[string]Status{
		"ERROR something broke":                         Error,
		"WARN: disk 91%":                                Warn,
		"  INFO started":                                Info,
		"[warn] retrying":                               Warn,
		"<Error> x":                                     Error,
		"(debug) y":                                     Debug,
		"2026-11-24T15:00:00Z ERROR failed":             Error,
		"15:00:00.123 [INFO] ok":                        Info,
		`ts=1 level=warn msg="slow"`:                    Warn,
		`ts=1 level="error" msg=x`:                      Error,
		"error handling done":                           "",
		"ERRORS are counted":                            "",
		"GET /index.html 200":                           "",
		"10.0.0.1 - - [24/Nov/2026] \"GET / HTTP/1.1\"": "",
		"":               "",
		"[unterminated":  "",
		"loglevel=error": "",
	}
	for in, want := range cases {
		got, _ := FromMessage([]byte(in))
		if got != want {
			t.Errorf("FromMessage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	v, m := []byte("Warning"), []byte("2026-11-24T15:00:00Z ERROR failed level=x")
	if n := testing.AllocsPerRun(100, func() { FromValue(v); FromMessage(m) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
