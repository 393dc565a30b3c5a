global using Tessera.IR;
global using Xunit;
global using Attribute = Tessera.IR.Attribute;
global using Type = Tessera.IR.Type;
