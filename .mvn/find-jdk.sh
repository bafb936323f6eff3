# Sourced by ./mvnw and ./xbt: the build needs JDK 25 (jdk.incubator.vector), while the machines'
# default java may be older. Keep a JAVA_HOME that already is 25+, else take one from /usr/lib/jvm.
xbt_java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
if [ -z "${JAVA_HOME-}" ] || [ ! -x "$JAVA_HOME/bin/java" ] || [ "$(xbt_java_major "$JAVA_HOME")" -lt 25 ] 2>/dev/null; then
  case $- in *f*) xbt_noglob=1; set +f ;; *) xbt_noglob= ;; esac  # mvnw runs with set -f
  for xbt_jdk in /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25-* /usr/lib/jvm/jdk-25*; do
    if [ -x "$xbt_jdk/bin/javac" ]; then JAVA_HOME="$xbt_jdk"; export JAVA_HOME; break; fi
  done
  [ -z "$xbt_noglob" ] || set -f
fi
