package io.tomcatredis.session.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sends one HTTP/1.1 GET exactly as written, byte for byte (request target and Cookie headers the
 * JDK client would refuse or rewrite), on a fresh connection with a read timeout: a request that
 * gets no complete answer within it is reported as a hang.
 */
final class RawHttp {

    private static final Pattern SET_SESSION_COOKIE = Pattern.compile("(?im)^Set-Cookie:\\s*JSESSIONID=([^;\\r\\n]*)");

    private RawHttp() {
    }

    record Reply(int status, String head, String body) {

        /** Session ids the server issued with this reply (Set-Cookie). */
        List<String> issuedSessionIds() {
            List<String> ids = new ArrayList<>();
            Matcher matcher = SET_SESSION_COOKIE.matcher(head);
            while (matcher.find()) {
                ids.add(matcher.group(1));
            }
            return ids;
        }
    }

    /** Thrown when the server did not answer completely within the timeout. */
    static final class Hang extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Hang(String request, Throwable cause) {
            super("No complete answer within the timeout to: " + request, cause);
        }
    }

    /**
     * @param target      the request target, e.g. {@code /app/s/get;jsessionid=...?name=x}
     * @param cookieLines values of the Cookie headers to send, one header each
     */
    static Reply get(int port, String target, List<String> cookieLines, int timeoutMillis) {
        StringBuilder request = new StringBuilder("GET ").append(target).append(" HTTP/1.1\r\n")
                .append("Host: 127.0.0.1\r\nConnection: close\r\n");
        for (String cookie : cookieLines) {
            request.append("Cookie: ").append(cookie).append("\r\n");
        }
        request.append("\r\n");
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            OutputStream out = socket.getOutputStream();
            out.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return parse(readAll(socket.getInputStream()), request);
        } catch (SocketTimeoutException e) {
            throw new Hang(request.toString(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + target + " failed", e);
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        for (int n; (n = in.read(buffer)) > 0; ) {
            bytes.write(buffer, 0, n);
        }
        return bytes.toByteArray();
    }

    private static String dechunk(String chunked) {
        StringBuilder body = new StringBuilder();
        int at = 0;
        while (true) {
            int lineEnd = chunked.indexOf("\r\n", at);
            if (lineEnd < 0) {
                throw new AssertionError("Truncated chunked body: " + chunked);
            }
            int size = Integer.parseInt(chunked.substring(at, lineEnd).split(";")[0].trim(), 16);
            if (size == 0) {
                return body.toString();
            }
            body.append(chunked, lineEnd + 2, lineEnd + 2 + size);
            at = lineEnd + 2 + size + 2;
        }
    }

    private static Reply parse(byte[] raw, CharSequence request) {
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/1.1 ") || end < 0) {
            throw new AssertionError("Not an HTTP response: <" + text + "> to: " + request);
        }
        int status = Integer.parseInt(text.substring(9, 12));
        String head = text.substring(0, end);
        String body = text.substring(end + 4);
        if (head.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
            body = dechunk(body);
        }
        return new Reply(status, head, new String(body.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
    }
}
