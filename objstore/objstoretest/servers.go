package objstoretest

import (
	"fmt"
	"os"
)

// InstallCommand installs the server binary these tests run by default.
const InstallCommand = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// MinIOInstallCommand installs the MinIO server the tests run when
// EVENTLOG_S3_SERVER=minio. It is the commit the Go module proxy served
// when this was written; MinIO publishes no tagged Go module versions.
const MinIOInstallCommand = "go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"

// serverKind says how to run one S3-compatible server.
type serverKind struct {
	binary  string
	install string
	// args gives the command line serving root's files on addr.
	args func(addr, root string) []string
	// env is added to the server's environment.
	env []string
	// readyURL answers below 500 once the server takes S3 requests.
	readyURL func(addr string) string
}

var versitygw = serverKind{
	binary:  "versitygw",
	install: InstallCommand,
	args: func(addr, root string) []string {
		return []string{"--access", accessKey, "--secret", secretKey, "--port", addr, "posix", root}
	},
	readyURL: func(addr string) string { return "http://" + addr + "/" },
}

var minioServer = serverKind{
	binary:  "minio",
	install: MinIOInstallCommand,
	args: func(addr, root string) []string {
		// The console would take a second port; it is not needed.
		return []string{"server", "--quiet", "--address", addr, "--console-address", "127.0.0.1:0", root}
	},
	env: []string{"MINIO_ROOT_USER=" + accessKey, "MINIO_ROOT_PASSWORD=" + secretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off"},
	readyURL: func(addr string) string { return "http://" + addr + "/minio/health/ready" },
}

// serverFromEnv picks the server from EVENTLOG_S3_SERVER: versitygw when
// unset, "versitygw" or "minio".
func serverFromEnv() (serverKind, error) {
	switch v := os.Getenv("EVENTLOG_S3_SERVER"); v {
	case "", "versitygw":
		return versitygw, nil
	case "minio":
		return minioServer, nil
	default:
		return serverKind{}, fmt.Errorf("EVENTLOG_S3_SERVER=%q: want versitygw or minio", v)
	}
}
