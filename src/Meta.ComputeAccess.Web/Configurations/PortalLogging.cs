using Serilog;
using Serilog.Formatting.Compact;

namespace Meta.ComputeAccess.Web.Configurations;

internal static class PortalLogging
{
    /// <summary>
    /// Serilog: levels and any extra sinks from the <c>Serilog</c> configuration section; the console sink is
    /// readable text in development and compact JSON (one event per line, for a log shipper, written asynchronously)
    /// everywhere else.
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
                // Written by a background thread: a request never waits on the console's lock or on a slow reader of
                // stdout. When the buffer is full, requests wait rather than events being dropped.
                logger.WriteTo.Async(sink => sink.Console(new RenderedCompactJsonFormatter()), blockWhenFull: true);
            }
        },
        // Each host logs through its own logger, never the static Log.Logger: with the default, every host in a process
        // (the tests start many) wrote to whichever host had set the static logger last, so a host's own sinks missed
        // its events. The host disposes (and so flushes) its logger when it stops.
        preserveStaticLogger: true);
    }
}
