using Meta.ComputeAccess.Privacy;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Meta.ComputeAccess.Web.Accounts;

/// <summary>Streams <see cref="PersonalDataExport"/> into the response as a JSON file to save, never cached.</summary>
public sealed class PersonalDataDownload(PersonalDataExport export, Guid userId, string fileName) : IActionResult
{
    public async Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = fileName }.ToString();
        response.Headers.CacheControl = "no-store";
        await export.WriteAsync(userId, response.Body, context.HttpContext.RequestAborted);
    }
}
