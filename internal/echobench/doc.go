// Package echobench measures timestamp echo servers: Load puts verified
// load on one server (every reply byte checked), and Run is the body of
// "rawsock bench echo", which builds rawsock's, net's and C's echo servers,
// pins them and itself to one CPU, reads their CPU time from /proc, and
// prints the tables the README quotes.
//
// It is measurement tooling, not the product: it runs compilers, pins
// CPUs, and changes this process's limits (RaiseNofile) and GOMAXPROCS
// when its caller asks (Config.CPU). It lives in the module root's
// internal/ rather than under rawsock/internal/ because Go's internal rule
// lets cmd/rawsock import only the former.
package echobench
