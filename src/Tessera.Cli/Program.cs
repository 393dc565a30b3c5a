using System.CommandLine;
using Tessera.Cli;

// '@x.npy' names a tensor file (as for iree-run-module), not a response file.
var config = new ParserConfiguration { ResponseFileTokenReplacer = null };
return TesseraCommand.Build().Parse(args, config).Invoke();
