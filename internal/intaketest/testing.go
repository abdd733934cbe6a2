package intaketest

import "testing"

// StartT starts a Server for a test and closes it when the test ends; a
// failure to listen fails the test.
func StartT(t testing.TB, o Options) *Server {
	t.Helper()
	srv, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}
