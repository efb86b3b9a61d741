package main

import (
	"encoding/binary"
	"encoding/json"
	"net"
	"os"
	"syscall"
)

// request is what the shim sends the broker, together with its fds 0, 1, 2.
type request struct {
	// Argv is the command as kwok received it from kubectl, argv[0] included.
	Argv []string `json:"argv"`
	// Env is the shim's environment; the broker reads only IRLAB_POD and IRLAB_ENV_*.
	Env []string `json:"env"`
}

// shim forwards one exec to the broker and mirrors the command's exit code.
func shim(argv []string) int {
	conn, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: sandboxSocket, Net: "unixpacket"})
	if err != nil {
		return fail("the pod exec broker is not reachable (%v)", err)
	}
	defer conn.Close()
	body, err := json.Marshal(request{Argv: argv, Env: os.Environ()})
	if err != nil {
		return fail("encode request: %v", err)
	}
	if _, _, err := conn.WriteMsgUnix(body, syscall.UnixRights(0, 1, 2), nil); err != nil {
		return fail("send request: %v", err)
	}
	// The command now owns our stdio; keeping our copies open is harmless
	// because we exit as soon as it does.
	reply := make([]byte, 4)
	n, err := conn.Read(reply)
	if err != nil || n != 4 {
		return fail("the pod exec broker went away before the command finished")
	}
	return int(binary.BigEndian.Uint32(reply))
}
