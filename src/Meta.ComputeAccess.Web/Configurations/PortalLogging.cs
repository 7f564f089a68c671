using Serilog;
using Serilog.Formatting.Compact;

namespace Meta.ComputeAccess.Web.Configurations;

internal static class PortalLogging
{
    /// <summary>
    /// Serilog: levels and any extra sinks from the <c>Serilog</c> configuration section; the console sink is
    /// readable text in development and compact JSON (one event per line, for a log shipper) everywhere else.
    /// </summary>
    public static void AddPortalLogging(this WebApplicationBuilder builder)
    {
        var development = builder.Environment.IsDevelopment();
        builder.Services.AddSerilog((services, logger) =>
        {
            logger.ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext();
            if (development)
            {
                logger.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}", formatProvider: System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                logger.WriteTo.Console(new RenderedCompactJsonFormatter());
            }
        });
    }
}
