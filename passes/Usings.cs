global using Tessera.IR;
global using Tessera.IR.Passes;
global using Attribute = Tessera.IR.Attribute;
global using Type = Tessera.IR.Type;
