package io.tomcatredis.session;

/** Request URIs as they may appear in logs: a {@code ;jsessionid=} path parameter is cut short. */
final class RequestUris {

    private static final String PARAMETER = ";jsessionid=";

    private RequestUris() {
    }

    static String forLog(String uri) {
        if (uri == null) {
            return "";
        }
        int at = uri.toLowerCase(java.util.Locale.ROOT).indexOf(PARAMETER);
        if (at < 0) {
            return uri;
        }
        int end = uri.indexOf(';', at + PARAMETER.length());
        String id = uri.substring(at + PARAMETER.length(), end < 0 ? uri.length() : end);
        return uri.substring(0, at + PARAMETER.length()) + io.tomcatredis.session.store.SessionIds.redact(id)
                + (end < 0 ? "" : uri.substring(end));
    }
}
