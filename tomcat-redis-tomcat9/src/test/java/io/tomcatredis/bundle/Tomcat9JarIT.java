package io.tomcatredis.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.FieldVisitor;
import org.objectweb.asm.Handle;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * The Tomcat 9 drop-in JAR (issue 17): the jakarta JAR of module tomcat-redis with every
 * {@code jakarta.servlet} name turned into {@code javax.servlet}, checked against the Tomcat 9.0
 * API from Maven Central (tomcat-catalina 9.0.x and its Servlet 4.0 API: this test's class path,
 * which holds no jakarta class). A member of Servlet 5/6 or of Tomcat 10.1/11 that our classes
 * use would be a {@code NoSuchMethodError} or {@code AbstractMethodError} on a Tomcat 9 site at
 * the first request that reaches it; here it is a failed build.
 */
class Tomcat9JarIT {

    private static final Path JAR = Path.of(System.getProperty("tomcat9Jar"));
    private static final Path JAKARTA_JAR = Path.of(System.getProperty("jakartaJar"));
    /** The packages the container (Tomcat 9 and its Servlet 4.0 API) provides. */
    private static final List<String> CONTAINER = List.of("javax/servlet/", "org/apache/catalina/",
            "org/apache/tomcat/", "org/apache/juli/", "org/apache/coyote/", "org/apache/naming/");

    /** Our classes (not the relocated libraries) as read from the JAR. */
    private static final Map<String, OurClass> OURS = new HashMap<>();

    @BeforeAll
    static void readOurClasses() throws IOException {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            for (JarEntry entry : jar.stream().toList()) {
                String name = entry.getName();
                if (name.endsWith(".class") && name.startsWith("io/tomcatredis/") && !name.startsWith("io/tomcatredis/shaded/")) {
                    try (InputStream in = jar.getInputStream(entry)) {
                        OurClass type = new OurClass();
                        new ClassReader(in).accept(type, ClassReader.SKIP_FRAMES);
                        OURS.put(type.name, type);
                    }
                }
            }
        }
        assertThat(OURS).containsKeys("io/tomcatredis/session/RedisSessionManager", "io/tomcatredis/cache/RedisCacheFilter");
    }

    /**
     * Every name in a class file is a CONSTANT_Utf8 of its constant pool (class and member
     * references, descriptors, generic signatures, record components, string constants such as
     * request attribute names): the ASCII bytes of "jakarta" appear in the file exactly when a
     * constant names it. Service files and the other resources are text.
     */
    @Test
    void noJakartaNameIsLeftInAnyClassServiceFileOrResource() throws IOException {
        List<String> offenders = new ArrayList<>();
        try (JarFile jar = new JarFile(JAR.toFile())) {
            for (JarEntry entry : jar.stream().toList()) {
                // Maven's build metadata of the modules the JAR was made from, not read at run time
                if (entry.isDirectory() || entry.getName().startsWith("META-INF/maven/")) {
                    continue;
                }
                try (InputStream in = jar.getInputStream(entry)) {
                    String text = entry.getName() + "\n" + new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                    if (text.contains("jakarta")) {
                        offenders.add(entry.getName());
                    }
                }
            }
        }
        assertThat(offenders).as("entries still naming jakarta").isEmpty();
        OurClass filter = OURS.get("io/tomcatredis/cache/RedisCacheFilter");
        assertThat(filter.interfaces).as("the rename happened").containsExactly("javax/servlet/Filter");
        assertThat(OURS.get("io/tomcatredis/cache/RequestClassifier").strings)
                .as("attribute names are renamed with the classes (Servlet 4.0 names them javax.servlet.request.*)")
                .contains("javax.servlet.request.X509Certificate");
    }

    /** The same entries as the jakarta JAR (only the Maven metadata and manifest differ), so nothing is lost. */
    @Test
    void holdsTheSameEntriesAsTheJakartaJarAndASaneSize() throws IOException {
        Set<String> tomcat9 = entries(JAR);
        Set<String> jakarta = entries(JAKARTA_JAR);
        assertThat(tomcat9).isEqualTo(jakarta);
        assertThat(tomcat9).contains("META-INF/services/io.tomcatredis.shaded.slf4j.spi.SLF4JServiceProvider",
                "io/tomcatredis/session/RedisSessionManager.class", "io/tomcatredis/session/RedisStore.class",
                "io/tomcatredis/shaded/redis/clients/jedis/RedisClient.class");
        long size = Files.size(JAR);
        assertThat(size).as("bytes").isBetween(Files.size(JAKARTA_JAR) * 9 / 10, Files.size(JAKARTA_JAR) * 11 / 10);
    }

    /**
     * Every class, constructor, method and field of the container that our classes name (as
     * supertype, field type, in a call, a field access, a method handle or a class constant)
     * exists in Tomcat 9.0: resolved as the JVM resolves it, through superclasses and interfaces.
     * Exempt are only the references made inside a method that Tomcat 9 can never call: one
     * that overrides a Servlet 5/6 method no Tomcat 9 supertype declares (the wrappers'
     * pass-throughs of {@code sendRedirect(String, int)} or {@code getRequestId()}) and that no
     * class of ours calls.
     */
    @Test
    void everyContainerMemberOurClassesUseExistsInTomcat9() {
        Set<String> missing = new TreeSet<>();
        Set<String> unreachable = new TreeSet<>();
        Set<String> resolved = new TreeSet<>();
        for (OurClass type : OURS.values()) {
            for (String[] ref : type.refs) {
                if (!container(ref[1])) {
                    continue;
                }
                resolved.add(ref[1] + (ref[2] == null ? "" : "." + ref[2] + ref[3]));
                Class<?> owner = load(ref[1]);
                String problem = owner == null ? "class " + ref[1]
                        : ref[2] == null ? null
                        : (ref[3].startsWith("(") ? hasMethod(owner, ref[2], ref[3]) : hasField(owner, ref[2], ref[3]))
                        ? null : ref[1] + "." + ref[2] + ref[3];
                if (problem == null) {
                    continue;
                }
                if (ref[0] != null && unreachableOnTomcat9(type, ref[0])) {
                    unreachable.add(type.name + "." + ref[0]);
                } else {
                    missing.add(type.name + (ref[0] == null ? "" : "." + ref[0]) + " -> " + problem);
                }
            }
        }
        assertThat(resolved).as("container references looked at").hasSizeGreaterThan(200)
                .contains("org/apache/catalina/session/ManagerBase", "javax/servlet/Filter");
        assertThat(missing).as("Servlet 5/6 or Tomcat 10.1/11 members used (NoSuchMethodError on Tomcat 9)").isEmpty();
        // the exemption is for these pass-throughs only: a new one is looked at, not waved through
        assertThat(unreachable).allMatch(m -> m.matches(".*\\.(sendRedirect|getRequestId|getProtocolRequestId|getServletConnection)\\(.*"),
                "Servlet 6 pass-throughs");
    }

    /** Declared by no Tomcat 9 supertype of {@code type} and called by none of our classes. */
    private static boolean unreachableOnTomcat9(OurClass type, String method) {
        for (OurClass caller : OURS.values()) {
            for (String[] ref : caller.refs) {
                if (ref[2] != null && (ref[2] + ref[3]).equals(method) && OURS.containsKey(ref[1])) {
                    return false;
                }
            }
        }
        String name = method.substring(0, method.indexOf('('));
        String descriptor = method.substring(method.indexOf('('));
        for (OurClass at = type; at != null; at = OURS.get(at.superName)) {
            List<String> supertypes = new ArrayList<>(at.interfaces);
            supertypes.add(at.superName);
            for (String supertype : supertypes) {
                Class<?> container = OURS.containsKey(supertype) ? null : load(supertype);
                if (container != null && hasMethod(container, name, descriptor)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Every concrete class of ours implements every abstract method its Tomcat 9 supertypes
     * declare (Servlet 4.0 and Tomcat 9 have methods that 10.1/11 dropped): otherwise the call
     * of such a method is an {@code AbstractMethodError} on Tomcat 9.
     */
    @Test
    void everyConcreteClassImplementsTheAbstractMethodsOfItsTomcat9Supertypes() {
        Set<String> unimplemented = new TreeSet<>();
        int checked = 0;
        for (OurClass type : OURS.values()) {
            if ((type.access & (Opcodes.ACC_ABSTRACT | Opcodes.ACC_INTERFACE)) != 0) {
                continue;
            }
            for (String[] method : abstractMethodsOfContainerSupertypes(type)) {
                checked++;
                if (!implemented(type, method[0], method[1])) {
                    unimplemented.add(type.name + " lacks " + method[0] + method[1]);
                }
            }
        }
        // e.g. Filter.doFilter, Manager.load, HttpSession.getValue (Servlet 4.0), AsyncContext.start
        assertThat(checked).as("abstract methods checked").isGreaterThan(50);
        assertThat(unimplemented).as("AbstractMethodError on Tomcat 9").isEmpty();
    }

    /**
     * Methods of the Servlet 4.0 wrappers that Servlet 6 dropped (setStatus(int, String),
     * encodeUrl, ...) but Tomcat 9 applications still call: where our wrapper intercepts the
     * Servlet 6 counterpart, it intercepts the old one too, or the call would go past it straight
     * to the wrapped object (a cached 200 for a page that set 404, a session id in a stored page).
     */
    @Test
    void ourWrappersInterceptTheServlet4MethodsWhoseCounterpartsTheyIntercept() {
        String[][] twins = {
                {"setStatus", "(I)V", "setStatus", "(ILjava/lang/String;)V"},
                {"encodeURL", "(Ljava/lang/String;)Ljava/lang/String;", "encodeUrl", "(Ljava/lang/String;)Ljava/lang/String;"},
                {"encodeRedirectURL", "(Ljava/lang/String;)Ljava/lang/String;",
                        "encodeRedirectUrl", "(Ljava/lang/String;)Ljava/lang/String;"},
                {"isRequestedSessionIdFromURL", "()Z", "isRequestedSessionIdFromUrl", "()Z"},
                {"getRealPath", "(Ljava/lang/String;)Ljava/lang/String;", "getRealPath", "(Ljava/lang/String;)Ljava/lang/String;"}};
        Set<String> bypassed = new TreeSet<>();
        int checked = 0;
        for (OurClass type : OURS.values()) {
            if (!extendsContainer(type, "javax/servlet/ServletResponseWrapper")
                    && !extendsContainer(type, "javax/servlet/ServletRequestWrapper")) {
                continue;
            }
            for (String[] twin : twins) {
                if (type.methods.containsKey(twin[0] + twin[1])) {
                    checked++;
                    if (!type.methods.containsKey(twin[2] + twin[3])) {
                        bypassed.add(type.name + " intercepts " + twin[0] + twin[1] + " but not " + twin[2] + twin[3]);
                    }
                }
            }
        }
        assertThat(checked).as("wrapper methods checked").isGreaterThan(3);
        assertThat(bypassed).isEmpty();
    }

    private static boolean extendsContainer(OurClass type, String wrapper) {
        for (String name = type.superName; name != null; ) {
            if (OURS.containsKey(name)) {
                name = OURS.get(name).superName;
            } else {
                Class<?> container = load(name);
                return container != null && load(wrapper).isAssignableFrom(container);
            }
        }
        return false;
    }

    private static List<String[]> abstractMethodsOfContainerSupertypes(OurClass type) {
        List<String[]> methods = new ArrayList<>();
        List<String> supertypes = new ArrayList<>();
        for (OurClass at = type; at != null; at = OURS.get(at.superName)) {
            supertypes.addAll(at.interfaces);
            if (!OURS.containsKey(at.superName)) {
                supertypes.add(at.superName);
            }
        }
        for (String name : supertypes) {
            Class<?> container = container(name) ? load(name) : null;
            if (container == null) {
                continue;
            }
            for (Class<?> c : allSupertypes(container)) {
                for (Method m : c.getDeclaredMethods()) {
                    if (Modifier.isAbstract(m.getModifiers())) {
                        methods.add(new String[] {m.getName(), Type.getMethodDescriptor(m)});
                    }
                }
            }
        }
        return methods;
    }

    /** Implemented by one of our classes in the chain, or concretely by a container class or a default method. */
    private static boolean implemented(OurClass type, String name, String descriptor) {
        String superName = type.superName;
        for (OurClass at = type; at != null; at = OURS.get(at.superName)) {
            Integer access = at.methods.get(name + descriptor);
            if (access != null && (access & Opcodes.ACC_ABSTRACT) == 0) {
                return true;
            }
            superName = at.superName;
        }
        List<Class<?>> candidates = new ArrayList<>();
        Class<?> container = load(superName);
        if (container != null) {
            candidates.addAll(allSupertypes(container));
        }
        for (OurClass at = type; at != null; at = OURS.get(at.superName)) {
            for (String i : at.interfaces) {
                if (load(i) != null) {
                    candidates.addAll(allSupertypes(load(i)));
                }
            }
        }
        for (Class<?> c : candidates) {
            for (Method m : c.getDeclaredMethods()) {
                if (m.getName().equals(name) && Type.getMethodDescriptor(m).equals(descriptor)
                        && !Modifier.isAbstract(m.getModifiers())) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean hasMethod(Class<?> owner, String name, String descriptor) {
        for (Class<?> c : allSupertypes(owner)) {
            List<Executable> members = new ArrayList<>(List.of(c.getDeclaredMethods()));
            members.addAll(List.of(c.getDeclaredConstructors()));
            for (Executable member : members) {
                String memberName = member instanceof Method ? member.getName() : "<init>";
                String memberDescriptor = member instanceof Method m ? Type.getMethodDescriptor(m)
                        : Type.getConstructorDescriptor((java.lang.reflect.Constructor<?>) member);
                if (memberName.equals(name) && memberDescriptor.equals(descriptor)
                        && (c == owner || !name.equals("<init>"))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean hasField(Class<?> owner, String name, String descriptor) {
        for (Class<?> c : allSupertypes(owner)) {
            for (Field field : c.getDeclaredFields()) {
                if (field.getName().equals(name) && Type.getDescriptor(field.getType()).equals(descriptor)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static List<Class<?>> allSupertypes(Class<?> type) {
        List<Class<?>> all = new ArrayList<>();
        List<Class<?>> todo = new ArrayList<>(List.of(type));
        while (!todo.isEmpty()) {
            Class<?> c = todo.remove(0);
            if (c == null || all.contains(c)) {
                continue;
            }
            all.add(c);
            todo.add(c.getSuperclass());
            todo.addAll(List.of(c.getInterfaces()));
        }
        if (type.isInterface()) {
            all.add(Object.class);
        }
        return all;
    }

    private static boolean container(String internalName) {
        return CONTAINER.stream().anyMatch(internalName::startsWith);
    }

    /** The class of the Tomcat 9 API on this test's class path, or null. */
    private static Class<?> load(String internalName) {
        try {
            return Class.forName(internalName.replace('/', '.'), false, Tomcat9JarIT.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    private static Set<String> entries(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile()); Stream<JarEntry> stream = file.stream()) {
            return new TreeSet<>(stream.map(JarEntry::getName)
                    .filter(n -> !n.startsWith("META-INF/maven/") && !n.equals("META-INF/MANIFEST.MF")).toList());
        }
    }

    /** What one of our class files names: supertypes, declared methods, references. */
    private static final class OurClass extends ClassVisitor {
        String name;
        String superName;
        int access;
        List<String> interfaces = List.of();
        final Map<String, Integer> methods = new HashMap<>();
        /** {enclosing method (name + descriptor) or null, owner, member name or null, member descriptor or null} */
        final List<String[]> refs = new ArrayList<>();
        private String enclosing;
        final Set<String> strings = new TreeSet<>();

        OurClass() {
            super(Opcodes.ASM9);
        }

        @Override
        public void visit(int version, int access, String name, String signature, String superName, String[] interfaces) {
            this.name = name;
            this.access = access;
            this.superName = superName;
            this.interfaces = List.of(interfaces);
            enclosing = null;
            typeRef(Type.getObjectType(superName));
            this.interfaces.forEach(i -> typeRef(Type.getObjectType(i)));
        }

        @Override
        public FieldVisitor visitField(int access, String name, String descriptor, String signature, Object value) {
            enclosing = null;
            typeRef(Type.getType(descriptor));
            return null;
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
            methods.put(name + descriptor, access);
            String method = name + descriptor;
            enclosing = method;
            typeRef(Type.getMethodType(descriptor));
            return new MethodVisitor(Opcodes.ASM9) {
                @Override
                public void visitCode() {
                    enclosing = method;
                }

                @Override
                public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
                    memberRef(owner, name, descriptor);
                }

                @Override
                public void visitFieldInsn(int opcode, String owner, String name, String descriptor) {
                    memberRef(owner, name, descriptor);
                }

                @Override
                public void visitTypeInsn(int opcode, String type) {
                    typeRef(Type.getObjectType(type));
                }

                @Override
                public void visitLdcInsn(Object value) {
                    constant(value);
                }

                @Override
                public void visitInvokeDynamicInsn(String name, String descriptor, Handle bootstrap, Object... arguments) {
                    typeRef(Type.getMethodType(descriptor));
                    for (Object argument : arguments) {
                        constant(argument);
                    }
                }
            };
        }

        private void constant(Object value) {
            if (value instanceof String text) {
                strings.add(text);
            } else if (value instanceof Type type) {
                typeRef(type);
            } else if (value instanceof Handle handle) {
                memberRef(handle.getOwner(), handle.getName(), handle.getDesc());
            }
        }

        private void memberRef(String owner, String name, String descriptor) {
            if (owner.startsWith("[")) {
                return;
            }
            refs.add(new String[] {enclosing, owner, name, descriptor});
            typeRef(descriptor.startsWith("(") ? Type.getMethodType(descriptor) : Type.getType(descriptor));
        }

        private void typeRef(Type type) {
            switch (type.getSort()) {
                case Type.METHOD -> {
                    typeRef(type.getReturnType());
                    for (Type argument : type.getArgumentTypes()) {
                        typeRef(argument);
                    }
                }
                case Type.ARRAY -> typeRef(type.getElementType());
                case Type.OBJECT -> refs.add(new String[] {enclosing, type.getInternalName(), null, null});
                default -> { }
            }
        }
    }
}
