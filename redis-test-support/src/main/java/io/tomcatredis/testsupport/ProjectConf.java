package io.tomcatredis.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Finds the project's {@code conf/} folder, so that tests use the shipped files, not copies. */
public final class ProjectConf {

    private ProjectConf() {
    }

    /** {@code conf/<name>} of the project, searched upwards from the working directory. */
    public static Path file(String name) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("conf").resolve(name);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("conf/" + name + " not found above " + Path.of("").toAbsolutePath());
    }

    /**
     * A copy of {@code conf/users.acl} (in a new temporary file) where each user named in
     * {@code passwords} has {@code >password} appended to its line, as an operator does; the other
     * users keep no password (they cannot log in).
     *
     * @throws IllegalStateException when the file has no line for one of the users
     */
    public static Path aclFileWithPasswords(Map<String, String> passwords) {
        try {
            List<String> lines = new ArrayList<>(Files.readAllLines(file("users.acl")));
            for (Map.Entry<String, String> user : passwords.entrySet()) {
                String start = "user " + user.getKey() + " ";
                int index = -1;
                for (int i = 0; i < lines.size(); i++) {
                    if (lines.get(i).startsWith(start)) {
                        index = i;
                    }
                }
                if (index < 0) {
                    throw new IllegalStateException("conf/users.acl has no \"" + start + "...\" line");
                }
                lines.set(index, lines.get(index) + " >" + user.getValue());
            }
            Path copy = Files.createTempFile("users-", ".acl");
            copy.toFile().deleteOnExit();
            Files.write(copy, lines);
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The rules of {@code user} in {@code conf/users.acl} as shipped (its line without {@code user
     * <name>}), with each rule equal to {@code replaced} changed to {@code by}: for a user narrower
     * (or wider) than shipped, e.g. {@code aclRules("tomcat-cache", "+hset", "+get")}.
     */
    public static List<String> aclRules(String user, String replaced, String by) {
        try {
            String line = Files.readAllLines(file("users.acl")).stream().filter(l -> l.startsWith("user " + user + " "))
                    .findFirst().orElseThrow(() -> new IllegalStateException("conf/users.acl has no user " + user));
            List<String> rules = List.of(line.split(" "));
            if (!rules.contains(replaced)) {
                throw new IllegalStateException("conf/users.acl gives " + user + " no rule " + replaced);
            }
            return rules.subList(2, rules.size()).stream().map(rule -> rule.equals(replaced) ? by : rule).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
