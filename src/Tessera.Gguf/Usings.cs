global using Tessera.IR;
global using Attribute = Tessera.IR.Attribute;
global using Type = Tessera.IR.Type;
