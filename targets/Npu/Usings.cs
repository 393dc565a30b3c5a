global using Tessera.IR;
