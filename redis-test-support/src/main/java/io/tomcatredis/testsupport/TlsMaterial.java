package io.tomcatredis.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private CA, a server certificate for {@code localhost}/{@code 127.0.0.1}, a client
 * certificate, and the PKCS12 truststore and keystore a Java client needs, generated with
 * {@code openssl} and {@code keytool} at test time so that no key material is ever committed.
 */
public final class TlsMaterial {

    /** Password of {@link #truststore()} and {@link #clientKeystore()}. */
    public static final String STORE_PASSWORD = "changeit";

    private final Path dir;

    private TlsMaterial(Path dir) {
        this.dir = dir;
    }

    /** Generates all files into {@code dir}. */
    public static TlsMaterial generate(Path dir) {
        TlsMaterial tls = new TlsMaterial(dir);
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("server.ext"),
                    "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
            Files.writeString(dir.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        tls.run("openssl", "req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-keyout", "ca.key", "-out", "ca.crt", "-days", "3",
                "-subj", "/CN=tomcat-redis test CA");
        tls.issue("server", "/CN=localhost");
        tls.issue("client", "/CN=tomcat-redis test client");
        tls.run("keytool", "-importcert", "-noprompt", "-alias", "test-ca", "-file", "ca.crt",
                "-keystore", "truststore.p12", "-storetype", "PKCS12", "-storepass", STORE_PASSWORD);
        tls.run("openssl", "pkcs12", "-export", "-in", "client.crt", "-inkey", "client.key",
                "-certfile", "ca.crt", "-name", "client", "-out", "client.p12", "-passout", "pass:" + STORE_PASSWORD);
        return tls;
    }

    public Path caCertificate() {
        return dir.resolve("ca.crt");
    }

    public Path serverCertificate() {
        return dir.resolve("server.crt");
    }

    public Path serverKey() {
        return dir.resolve("server.key");
    }

    /** The server certificate and key also serve as client identity between Redis nodes. */
    public Path clientCertificate() {
        return dir.resolve("client.crt");
    }

    public Path clientKey() {
        return dir.resolve("client.key");
    }

    /** PKCS12 truststore holding the test CA. */
    public Path truststore() {
        return dir.resolve("truststore.p12");
    }

    /** PKCS12 keystore holding the client certificate and key, for mutual TLS. */
    public Path clientKeystore() {
        return dir.resolve("client.p12");
    }

    private void issue(String name, String subject) {
        run("openssl", "req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject);
        run("openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", name + ".crt", "-days", "3", "-extfile", name + ".ext");
    }

    private void run(String... command) {
        try {
            Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", List.of(command)) + " failed: "
                        + new String(output, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot run " + command[0] + " (is it installed?)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while running " + command[0], e);
        }
    }
}
