package io.tomcatredis.testsupport;

/** Reads fields out of the text that Redis returns for {@code INFO}. */
final class Info {

    private Info() {
    }

    static String field(String info, String field) {
        String prefix = field + ":";
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(prefix)) {
                return line.substring(prefix.length()).trim();
            }
        }
        return null;
    }
}
