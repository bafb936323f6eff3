package dev.xbt.engine.backend;

/** Reductions over one axis. */
public enum ReduceOp { SUM, MAX }
