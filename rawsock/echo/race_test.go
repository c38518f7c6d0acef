//go:build race

package echo

// raceEnabled scales the load tests down under the race detector, which
// makes every memory access several times slower.
const raceEnabled = true
