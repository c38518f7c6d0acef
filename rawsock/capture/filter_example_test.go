package capture_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/rawsock/rawsock/rawsock/capture"
)

func ExampleCompile() {
	prog, err := capture.Compile("icmp", 262144)
	if err != nil {
		log.Fatal(err)
	}
	if err := capture.WriteProgram(os.Stdout, prog); err != nil {
		log.Fatal(err)
	}
	// Output:
	// (000) ldh      [12]
	// (001) jeq      #0x800           jt 2	jf 5
	// (002) ldb      [23]
	// (003) jeq      #0x1             jt 4	jf 5
	// (004) ret      #262144
	// (005) ret      #0
}

func ExampleWriteProgramC() {
	prog, err := capture.Compile("arp", 262144)
	if err != nil {
		log.Fatal(err)
	}
	if err := capture.WriteProgramC(os.Stdout, prog); err != nil {
		log.Fatal(err)
	}
	// Output:
	// { 0x28, 0, 0, 0x0000000c },
	// { 0x15, 0, 1, 0x00000806 },
	// { 0x6, 0, 0, 0x00040000 },
	// { 0x6, 0, 0, 0x00000000 },
}

func ExampleSyntaxError() {
	_, err := capture.Compile("udp and port 70000", 262144)
	var se *capture.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Offset, se.Token)
	}
	fmt.Println(err)
	// Output:
	// 13 70000
	// filter: "70000" at offset 13: illegal port number 70000 > 65535
}
