using Meta.ComputeAccess.Web.Configurations;
using Meta.ComputeAccess.Web.Operations;

ClusterCommands.Register();
var command = PortalCommands.Parse(args);
var builder = WebApplication.CreateBuilder(command?.HostArgs ?? args);
builder.AddPortal();
var app = builder.Build();

if (command is not null)
{
    // Operator commands (migrate, seed-demo, admin create ...) share the web host's configuration and services.
    return await command.RunAsync(app.Services);
}

app.UsePortal();
await app.RunAsync();
return 0;

/// <summary>Exposed for WebApplicationFactory in the tests.</summary>
public partial class Program;
