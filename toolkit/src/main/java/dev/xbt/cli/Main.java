package dev.xbt.cli;

/** Entry point of the {@code xbt} command line. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.out.println("xbt: the command line arrives with the CLIP and XBT issues.");
    }
}
