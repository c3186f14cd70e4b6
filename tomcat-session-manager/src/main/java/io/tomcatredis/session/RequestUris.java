package io.tomcatredis.session;

import java.util.regex.Pattern;

/**
 * Request URIs as they may appear in logs: every path parameter ({@code ;jsessionid=...}, or the
 * session cookie's configured name) is cut short, since the container may take the session id from
 * any of them.
 */
final class RequestUris {

    private static final Pattern PATH_PARAMETER = Pattern.compile(";[^/?]*");

    private RequestUris() {
    }

    static String forLog(String uri) {
        return uri == null ? "" : PATH_PARAMETER.matcher(uri).replaceAll(";…");
    }
}
