using System.Globalization;
using System.Text;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Usage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Api;

/// <summary>
/// The cluster API (contract and cluster side in docs/cluster-integration.md; the quota rules in <see cref="QuotaExport"/>). Only the
/// ClusterToken scheme: no cookies, no antiforgery; a token acts for its own cluster only.
/// </summary>
public static class ClusterApi
{
    /// <summary>The largest usage body accepted (a million sacct lines is about 150 MB).</summary>
    public const long MaxUsageBodyBytes = 512L * 1024 * 1024;

    public static void MapClusterApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization(ClusterTokenAuthentication.Policy).RequireRateLimiting(Configurations.PortalRateLimits.ClusterApi).DisableAntiforgery();
        api.MapPost("/usage", PostUsageAsync).WithMetadata(new RequestSizeLimitAttribute(MaxUsageBodyBytes));
        api.MapGet("/clusters/{cluster}/quotas", GetQuotasAsync);
    }

    private static IResult Problem(int status, string message) => Results.Json(new { error = message }, statusCode: status);

    internal static async Task<IResult> PostUsageAsync(HttpContext http, UsageIngest ingest, string? cluster, CancellationToken cancellationToken)
    {
        if (cluster is not null && !string.Equals(cluster, http.User.ClusterSlug(), StringComparison.Ordinal))
        {
            return Problem(StatusCodes.Status403Forbidden, $"This token belongs to cluster '{http.User.ClusterSlug()}' and cannot post usage for '{cluster}'.");
        }
        var mediaType = http.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        UsageBodyFormat format;
        switch (mediaType)
        {
            case "text/plain":
                format = UsageBodyFormat.SacctParsable2;
                break;
            case "application/x-ndjson" or "application/jsonl" or "application/json-lines":
                format = UsageBodyFormat.JsonLines;
                break;
            default:
                return Problem(StatusCodes.Status415UnsupportedMediaType,
                    "Send `sacct --parsable2` output with its header as Content-Type: text/plain, or JSON lines as application/x-ndjson.");
        }
        if (http.Request.ContentLength > MaxUsageBodyBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, $"A usage body may be at most {MaxUsageBodyBytes / 1024 / 1024} MB; send the records in several batches.");
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxUsageBodyBytes;
        }

        UsageParseResult parsed;
        try
        {
            parsed = await ingest.ParseAsync(http.User.ClusterId(), http.Request.Body, format, cancellationToken);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, $"A usage body may be at most {MaxUsageBodyBytes / 1024 / 1024} MB; send the records in several batches.");
        }
        catch (DecoderFallbackException)
        {
            return Problem(StatusCodes.Status400BadRequest, "The body is not valid UTF-8 text; nothing was recorded. Send sacct's output as it is, in UTF-8.");
        }

        if (!parsed.HeaderAccepted)
        {
            return Problem(StatusCodes.Status400BadRequest, parsed.Rejected.FirstOrDefault()?.Reason ?? "The body has no sacct header line.");
        }
        if (parsed.Chargeable.Count + parsed.Pending.Count + parsed.SkippedSteps + parsed.Duplicates.Count == 0)
        {
            return parsed.RejectedCount == 0
                ? Problem(StatusCodes.Status400BadRequest, "The body holds no job records.")
                : Results.Json(new
                {
                    error = "No line of the body could be read as a job record.",
                    rejected = parsed.RejectedCount,
                    rejections = parsed.Rejected.Select(r => new { line = r.LineNumber, reason = r.Reason }),
                }, statusCode: StatusCodes.Status400BadRequest);
        }

        var result = await ingest.IngestAsync(http.User.ClusterId(), parsed, cancellationToken);
        return Results.Ok(new
        {
            accepted = result.Accepted,
            charged = result.Charged,
            chargedGpuHours = result.ChargedGpuHours,
            chargedHours = result.ChargedHours,
            duplicate = result.Duplicate,
            pending = result.Pending,
            skippedSteps = result.SkippedSteps,
            unmatched = result.Unmatched,
            rejected = result.Rejected,
            rejections = result.Rejections.Select(r => new { line = r.LineNumber, reason = r.Reason }),
        });
    }

    internal static async Task<IResult> GetQuotasAsync(HttpContext http, PortalDbContext db, TimeProvider clock, string cluster, string? format, CancellationToken cancellationToken)
    {
        if (!string.Equals(cluster, http.User.ClusterSlug(), StringComparison.Ordinal))
        {
            return Problem(StatusCodes.Status403Forbidden, $"This token belongs to cluster '{http.User.ClusterSlug()}' and cannot read the quotas of '{cluster}'.");
        }
        var export = await QuotaExport.ForClusterAsync(db, http.User.ClusterId(), clock.GetUtcNow(), cancellationToken);
        if (string.Equals(format, "sacctmgr", StringComparison.OrdinalIgnoreCase))
        {
            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"# GPU-minute limits for Slurm cluster {export.SlurmClusterName}, from Meta Compute Access.\n");
            text.Append("# GrpTRESMins caps the account's total GPU-minutes; suspended and used-up accounts get 0.\n");
            foreach (var r in export.Accounts)
            {
                text.Append(CultureInfo.InvariantCulture,
                    $"sacctmgr -i modify account where name={r.SlurmAccount} cluster={export.SlurmClusterName} set GrpTRESMins=gres/gpu={r.LimitMinutes}\n");
            }
            return Results.Text(text.ToString(), "text/plain; charset=utf-8");
        }
        return Results.Ok(new
        {
            cluster,
            slurmCluster = export.SlurmClusterName,
            accounts = export.Active.Select(r => new
            {
                account = r.SlurmAccount,
                grantedGpuHours = r.GrantedHours,
                usedGpuHours = r.UsedHours,
                remainingGpuHours = r.RemainingHours,
                startDate = r.StartDate,
                endDate = r.EndDate,
            }),
        });
    }
}
