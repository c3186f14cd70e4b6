package io.tomcatredis.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import java.beans.BeanInfo;
import java.beans.Introspector;
import java.beans.PropertyDescriptor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * Attack on issue 17's Tomcat 9 JAR, on its test class path (the transformed JAR and the Tomcat
 * 9.0 API): reflection over our classes, as EL, JSP and frameworks do at runtime, must not reach a
 * Servlet 5/6-only type. Found on the real Tomcat 9.0.117 distribution: a JSP behind
 * RedisCacheFilter printing {@code ${pageContext.request.contextPath}} answered 500
 * ({@code NoClassDefFoundError: javax/servlet/ServletConnection}), because EL's BeanELResolver
 * introspects the request it is given, the filter's ObservedRequest, whose getServletConnection()
 * returned Servlet 6's ServletConnection.
 */
class Tomcat9AttackIT {

    /** What {@code ${pageContext.request.contextPath}} does: java.beans introspection of the request's class. */
    @Test
    void elCanReadPropertiesOfTheRequestTheCacheFilterHandsTheApplication() throws Exception {
        BeanInfo info = Introspector.getBeanInfo(Class.forName("io.tomcatredis.cache.ObservedRequest"));
        assertThat(Arrays.stream(info.getPropertyDescriptors()).map(PropertyDescriptor::getName))
                .contains("contextPath", "requestURI", "method");
    }

    /**
     * Every class of ours in the JAR lists its members on Tomcat 9 (as reflection by the container
     * or a framework would), except the one Servlet 6 subclass the filter creates only where the
     * Servlet API has ServletConnection.
     */
    @Test
    void everyOwnClassListsItsMembersOnTomcat9() throws IOException, ClassNotFoundException {
        List<String> broken = new ArrayList<>();
        int looked = 0;
        try (JarFile jar = new JarFile(Path.of(System.getProperty("tomcat9Jar")).toFile())) {
            for (JarEntry entry : Collections.list(jar.entries())) {
                String name = entry.getName();
                if (!name.startsWith("io/tomcatredis/") || name.startsWith("io/tomcatredis/shaded/")
                        || !name.endsWith(".class") || name.equals("io/tomcatredis/cache/ObservedServlet6Request.class")) {
                    continue;
                }
                String className = name.substring(0, name.length() - ".class".length()).replace('/', '.');
                try {
                    Class<?> type = Class.forName(className, false, Tomcat9AttackIT.class.getClassLoader());
                    type.getDeclaredMethods();
                    type.getDeclaredFields();
                    type.getDeclaredConstructors();
                    type.getMethods();
                    looked++;
                } catch (LinkageError e) {
                    broken.add(className + " -> " + e);
                }
            }
        }
        assertThat(looked).as("classes looked at").isGreaterThan(100);
        assertThat(broken).as("classes whose members name a type Tomcat 9 lacks").isEmpty();
    }
}
